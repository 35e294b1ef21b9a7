// The portal's own script, loaded from our origin (the CSP allows no inline scripts).
document.addEventListener("DOMContentLoaded", () => {
  // Move focus to the main heading after an in-page skip, for screen-reader users.
  document.querySelectorAll(".skip-link").forEach((link) => {
    link.addEventListener("click", () => document.getElementById("main")?.focus());
  });
});
