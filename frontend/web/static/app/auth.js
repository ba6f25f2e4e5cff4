// The open demo mode's page-wide warning: when iocd runs with --demo every
// request acts as the admin "demo" (GET /api/v1/auth/me answers
// kind "demo"), and the page must say so loudly (docs/SECURITY.md). The
// login itself is main.js's ensureLogin.

export async function showDemoBanner() {
  const r = await fetch("/api/v1/auth/me", { credentials: "same-origin" }).catch(() => null);
  const me = r && r.ok ? await r.json().catch(() => null) : null;
  if (!me || me.kind !== "demo") return;
  const b = document.createElement("div");
  b.id = "demo-banner";
  b.setAttribute("role", "alert");
  b.textContent = "DEMO - open access: no login, everyone is admin. Never use this mode on a network.";
  document.body.prepend(b);
}
