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
// A table wider than the text scrolls inside it: give it a labelled region a keyboard can reach (arrow
// keys scroll it) and say, above a table that overflows, that there is more to the side. Without
// JavaScript the table still scrolls, and the shadow at its edge (style.css) shows that it can.
document.querySelectorAll(".practice-body[data-table-label] table").forEach((table) => {
  const body = table.closest(".practice-body");
  const region = document.createElement("div");
  region.className = "table-scroll";
  region.setAttribute("role", "region");
  region.setAttribute("tabindex", "0");
  region.setAttribute("aria-label", body.dataset.tableLabel);
  table.replaceWith(region);
  region.append(table);
  table.removeAttribute("tabindex");  // the region is the one tab stop now (without JavaScript, the table is)
  const hint = document.createElement("p");
  hint.className = "scroll-hint";
  hint.setAttribute("aria-hidden", "true");
  hint.textContent = body.dataset.scrollHint;
  region.before(hint);
  const update = () => { hint.hidden = region.scrollWidth <= region.clientWidth + 1; };
  update();
  window.addEventListener("resize", update);
});
