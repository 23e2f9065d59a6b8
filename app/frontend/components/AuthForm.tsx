"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { useEffect, useState, type FormEvent } from "react";

import { auth, messageOf } from "@/lib/api";

import { Field } from "./Field";

const MIN_PASSWORD_LENGTH = 8;

interface AuthFormProps {
  readonly mode: "sign-in" | "sign-up";
}

/** Sign-in and sign-up share one form; sign-up adds a name. */
export function AuthForm({ mode }: AuthFormProps) {
  const router = useRouter();
  const signingUp = mode === "sign-up";
  const [name, setName] = useState("");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  // Someone already signed in has nothing to do here.
  useEffect(() => {
    let live = true;
    auth
      .session()
      .then((session) => {
        if (live && session) router.replace("/");
      })
      .catch(() => {
        // Not knowing is the same as being signed out on this page.
      });
    return () => {
      live = false;
    };
  }, [router]);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      if (signingUp) await auth.signUp(name.trim(), email.trim(), password);
      else await auth.signIn(email.trim(), password);
      router.replace("/");
    } catch (failure) {
      setError(messageOf(failure));
      setBusy(false);
    }
  }

  return (
    <main className="auth-page">
      <div className="card auth-card">
        <p className="brand" aria-hidden="true">
          ✓ Todo AI Chatbot
        </p>
        <h1>{signingUp ? "Create your account" : "Sign in"}</h1>
        <form onSubmit={submit} className="stack" aria-describedby={error ? "auth-error" : undefined}>
          {signingUp && (
            <Field
              id="auth-name"
              label="Name"
              name="name"
              autoComplete="name"
              required
              value={name}
              onChange={(event) => setName(event.target.value)}
            />
          )}
          <Field
            id="auth-email"
            label="Email"
            name="email"
            type="email"
            autoComplete="email"
            required
            value={email}
            onChange={(event) => setEmail(event.target.value)}
          />
          <Field
            id="auth-password"
            label="Password"
            name="password"
            type="password"
            autoComplete={signingUp ? "new-password" : "current-password"}
            required
            minLength={signingUp ? MIN_PASSWORD_LENGTH : undefined}
            hint={signingUp ? `At least ${MIN_PASSWORD_LENGTH} characters.` : undefined}
            value={password}
            onChange={(event) => setPassword(event.target.value)}
          />
          {error && (
            <p id="auth-error" className="error" role="alert">
              {error}
            </p>
          )}
          <button type="submit" className="primary" disabled={busy}>
            {busy ? (signingUp ? "Creating account…" : "Signing in…") : signingUp ? "Create account" : "Sign in"}
          </button>
        </form>
        <p className="switch">
          {signingUp ? (
            <>
              Already have an account? <Link href="/sign-in">Sign in</Link>
            </>
          ) : (
            <>
              New here? <Link href="/sign-up">Create an account</Link>
            </>
          )}
        </p>
      </div>
    </main>
  );
}
