// A practice's Print and Share link, where JavaScript runs: without it Print stays hidden and Share
// link is a plain link to the practice's address (to copy or long-press).
"use strict";
document.querySelectorAll("[data-print]").forEach((button) => {
  button.hidden = false;
  button.addEventListener("click", () => window.print());
});
document.querySelectorAll("[data-share]").forEach((link) => {
  link.addEventListener("click", async (event) => {
    const status = link.parentElement.querySelector(".share-status");
    if (navigator.share) {
      event.preventDefault();
      try { await navigator.share({ title: document.title, url: link.href }); } catch (_) { /* dismissed */ }
    } else if (navigator.clipboard && window.isSecureContext) {
      event.preventDefault();
      try {
        await navigator.clipboard.writeText(link.href);
        if (status) status.textContent = link.dataset.copied;
      } catch (_) { window.location.href = link.href; }
    }
  });
});
