"use client";

import { useRouter } from "next/navigation";
import { useCallback, useEffect, useState } from "react";

import { ApiError, auth, messageOf } from "@/lib/api";
import type { Session } from "@/lib/types";

import { ChatPanel } from "./ChatPanel";
import { TaskPanel } from "./TaskPanel";

/** The signed-in screen: tasks on one side, the assistant on the other. */
export function Workspace() {
  const router = useRouter();
  const [session, setSession] = useState<Session | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [signOutError, setSignOutError] = useState<string | null>(null);
  // Bumped whenever the chat changed tasks, so the list fetches them again.
  const [tasksVersion, setTasksVersion] = useState(0);

  const toSignIn = useCallback(() => router.replace("/sign-in"), [router]);

  useEffect(() => {
    let live = true;
    auth
      .session()
      .then((found) => {
        if (!live) return;
        if (found) setSession(found);
        else toSignIn();
      })
      .catch((failure: unknown) => {
        if (live) setLoadError(messageOf(failure));
      });
    return () => {
      live = false;
    };
  }, [toSignIn]);

  async function signOut() {
    setSignOutError(null);
    try {
      await auth.signOut();
      toSignIn();
    } catch (failure) {
      setSignOutError(messageOf(failure));
    }
  }

  const onUnauthorised = useCallback(
    (failure: unknown) => {
      if (failure instanceof ApiError && failure.signedOut) {
        toSignIn();
        return true;
      }
      return false;
    },
    [toSignIn],
  );

  if (!session) {
    return (
      <main className="centered">
        {loadError ? (
          <div className="card">
            <p className="error" role="alert">
              {loadError}
            </p>
            <button type="button" onClick={() => window.location.reload()}>
              Try again
            </button>
          </div>
        ) : (
          <p role="status">Loading…</p>
        )}
      </main>
    );
  }

  return (
    <>
      <a className="skip-link" href="#chat-input">
        Skip to the assistant
      </a>
      <header className="topbar">
        <p className="brand">✓ Todo AI Chatbot</p>
        <div className="account">
          <span className="who" title={session.user.email}>
            {session.user.name || session.user.email}
          </span>
          <button type="button" onClick={signOut}>
            Sign out
          </button>
        </div>
      </header>
      {signOutError && (
        <p className="error banner" role="alert">
          {signOutError}
        </p>
      )}
      <main className="workspace">
        <TaskPanel version={tasksVersion} onUnauthorised={onUnauthorised} />
        <ChatPanel onTasksChanged={() => setTasksVersion((v) => v + 1)} onUnauthorised={onUnauthorised} />
      </main>
    </>
  );
}
