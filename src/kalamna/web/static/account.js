/* Kalamna account pages: complete a password-reset or an invitation link (?token=). Text only. */
(() => {
  "use strict";
  const main = document.querySelector("main");
  const page = main.dataset.page;
  const status = document.getElementById("status");
  const form = document.getElementById("form");
  const token = new URLSearchParams(location.search).get("token") || "";
  const API = "/api/v1/auth/";
  const show = (text, kind) => {
    status.textContent = text;
    status.className = kind || "";
  };
  const EXPIRED =
    page === "reset"
      ? "This link is invalid or has expired. Ask for a new password-reset email."
      : "This invitation is invalid, was already used, or has expired. Ask for a new one.";
  const failed = async (res) => {
    let body = {};
    try {
      body = await res.json();
    } catch (e) {
      /* not JSON */
    }
    if (body.code === "invalid_token") return show(EXPIRED, "error");
    if (res.status === 429) {
      return show(`Too many attempts. Try again in ${res.headers.get("Retry-After") || 60} seconds.`, "error");
    }
    show(body.detail || "Something went wrong. Please try again.", "error");
  };
  const check = async () => {
    if (!token) return show("This link is incomplete: it has no token.", "error");
    const path =
      page === "reset"
        ? `password/reset/verify/${encodeURIComponent(token)}`
        : `invitations/verify/${encodeURIComponent(token)}`;
    let res;
    try {
      res = await fetch(API + path);
    } catch (e) {
      return show("The server cannot be reached. Check your connection and reload.", "error");
    }
    if (!res.ok) return failed(res);
    const info = await res.json();
    if (page === "reset") show("Choose a new password of 8 to 128 characters.");
    else {
      const who = info.invited_by && info.invited_by.full_name ? info.invited_by.full_name : "Someone";
      show(`${who} invited ${info.email} to join ${info.organization.name} as ${info.role}.`);
    }
    form.hidden = false;
    form.querySelector("input").focus();
  };
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const password = String(data.get("password") || "");
    if (password.length < 8) return show("The password must have at least 8 characters.", "error");
    if (password !== data.get("confirm")) return show("The two passwords are not the same.", "error");
    const button = form.querySelector("button");
    button.disabled = true;
    const [path, body] =
      page === "reset"
        ? ["password/reset", { token, new_password: password }]
        : [
            `invitations/${encodeURIComponent(token)}/accept`,
            { full_name: String(data.get("full_name") || "").trim(), password },
          ];
    try {
      const res = await fetch(API + path, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
      if (!res.ok) return await failed(res);
      form.hidden = true;
      if (page === "reset") show("Your password has been changed. You can sign in with it now.", "ok");
      else {
        const result = await res.json();
        show(`Welcome, ${result.employee.full_name}! Your account is active: sign in as ${result.employee.email}.`, "ok");
      }
    } catch (e) {
      show("The server cannot be reached. Check your connection and try again.", "error");
    } finally {
      button.disabled = false;
    }
  });
  check();
})();
