import { parseIntent } from "./src/agent/builtin.js";
const phrases = ["add buy milk","remind me to call mom","what's still pending?","mark task 3 done","complete the milk one","delete task 2","rename task 1 to call dad",
"Add a task to buy groceries","please add 'pick up dry cleaning' to my list","create task: renew passport","new task water the plants","I need to book a dentist appointment","don't let me forget to pay rent",
"show my tasks","list all tasks","what have I completed?","show completed tasks","what do I have to do today?","how many tasks do I have","my tasks","todo list","what's left",
"I finished task 4","done with 3","task 5 is done","check off the laundry","mark buy milk as complete","remove the milk task","get rid of task 7","cancel task 9",
"change task 2 to walk the dog","update the description of task 2 to use the blue leash","update task 2's description to 3 km","rename the milk task to buy oat milk",
"hello","thanks!","help","what can you do?","what is the weather like?","blah blah","mark it done","delete that","Can you please add buy eggs for me?","add buy milk with description 2 liters, semi-skimmed",
"todo: call the bank", "What tasks are not done yet?","I did the dishes","finish the report","whats pending"];
for (const p of phrases) console.log(p.padEnd(50), JSON.stringify(parseIntent(p)));
