import { z } from "zod";

export const LoginForm = z.object({
  email: z.string().email(),
  password: z.string().min(12, "The password must be at least 12 characters"),
});

const config = {
  apiBase: "https://api.example.com/v2",
  tokenStorageKey: "auth.token",
  secret: process.env.JWT_SECRET!,
  apiKey: process.env.EXAMPLE_API_KEY ?? "",
  clientId: "web-frontend",
};

export async function getToken(): Promise<string> {
  const cached = sessionStorage.getItem(config.tokenStorageKey);
  if (cached) return cached;
  const response = await fetch(`${config.apiBase}/token`, { method: "POST", credentials: "include" });
  const { access_token: token } = await response.json();
  sessionStorage.setItem(config.tokenStorageKey, token);
  return token;
}

// Build id and cache-busting hash of the bundle, for the error reporter.
export const BUILD = { id: "2024.05.14-3f6c2a9", bundle: "app.4f53cda18c2b.js", sri: "sha384-oqVuAfXRKap7fdgcCY5uykM6+R9GqQ8K/uxy9rx7HNQlGYl1kPzQho1wx4JwY8wC" };
export const passwordRules = { minLength: 12, requireSymbol: false, passwordPattern: "^.{12,}$" };
