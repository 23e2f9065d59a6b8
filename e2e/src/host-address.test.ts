import assert from "node:assert/strict";
import type { NetworkInterfaceInfo } from "node:os";
import { describe, it } from "node:test";
import { nonLoopbackAddress } from "./host-address.ts";

const v4 = (address: string, internal = false) =>
  ({ address, family: "IPv4", internal, netmask: "255.255.0.0", mac: "00:00:00:00:00:00", cidr: null }) as NetworkInterfaceInfo;

describe("the address the browser uses", () => {
  it("prefers docker0, which only this machine can reach", () => {
    assert.equal(nonLoopbackAddress({ lo: [v4("127.0.0.1", true)], eth0: [v4("10.0.0.5")], docker0: [v4("172.17.0.1")] }), "172.17.0.1");
  });
  it("falls back to the first non-internal IPv4", () => {
    assert.equal(nonLoopbackAddress({ lo: [v4("127.0.0.1", true)], eth0: [v4("10.0.0.5")] }), "10.0.0.5");
  });
  it("refuses loopback: it is a secure context that hides Secure-cookie bugs", () => {
    assert.throws(() => nonLoopbackAddress({ lo: [v4("127.0.0.1", true)] }), /no non-loopback IPv4/);
  });
});
