// Building a course pack without reloading, where JavaScript runs. Every form here works without it
// (the server answers a form with a redirect back to the same place); with it, the form is sent in the
// background (CSRF token included, as the form holds it), the page changes in place and a status line
// says what happened. The server answers JSON: {"message"} when done, {"error"} when refused.
"use strict";

async function send(form, submitter) {
  const response = await fetch(form.action, {
    method: "POST",
    body: new FormData(form, submitter),
    headers: { Accept: "application/json" },
    credentials: "same-origin",
  });
  let answer = {};
  try { answer = await response.json(); } catch (_) { /* a page, not JSON: an unknown pack, a lost session */ }
  if (!response.ok || answer.error) throw new Error(answer.error || "");
  return answer.message || "";
}

function say(status, text) {
  // Emptied first, so that the same sentence twice is announced twice.
  status.textContent = "";
  window.setTimeout(() => { status.textContent = text; }, 50);
}

// "Add to pack" on search results and practice pages: becomes "In this pack" with Remove, and back.
document.querySelectorAll("[data-pack-tool]").forEach((tool) => {
  const add = tool.querySelector("[data-pack-add]");
  const undo = tool.querySelector("[data-pack-undo]");
  const status = tool.querySelector(".pack-status");
  add.addEventListener("submit", async (event) => {
    event.preventDefault();
    const chosen = add.querySelector("select[name=pack]");
    const pack = chosen ? chosen.selectedOptions[0] : add.querySelector("input[name=pack]");
    try {
      say(status, await send(add, event.submitter));
    } catch (error) {
      say(status, error.message || tool.dataset.failed);
      return;
    }
    undo.querySelector("input[name=pack]").value = pack.value;
    undo.querySelector(".in-pack-title").textContent = pack.dataset.title;
    add.hidden = true;
    undo.hidden = false;
    undo.querySelector("button").focus();
  });
  undo.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      say(status, await send(undo, event.submitter));
    } catch (error) {
      say(status, error.message || tool.dataset.failed);
      return;
    }
    undo.hidden = true;
    add.hidden = false;
    add.querySelector("button").focus();
  });
});

// A pack's entries: drag an entry by its handle, or move it with its Up and Down buttons.
document.querySelectorAll("[data-pack-entries]").forEach((list) => {
  const status = document.querySelector(list.dataset.status);
  const entries = () => Array.from(list.querySelectorAll(":scope > [data-item]"));

  list.querySelectorAll("[data-move]").forEach((form) => {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const entry = form.closest("[data-item]");
      const button = event.submitter || form.querySelector("button");
      try {
        say(status, await send(form, event.submitter));
      } catch (error) {
        say(status, error.message || list.dataset.failed);
        return;
      }
      if (form.dataset.move === "up" && entry.previousElementSibling) {
        list.insertBefore(entry, entry.previousElementSibling);
      } else if (form.dataset.move === "down" && entry.nextElementSibling) {
        list.insertBefore(entry.nextElementSibling, entry);
      }
      button.focus(); // the keyboard stays on the entry it moved
    });
  });

  const order = document.querySelector(list.dataset.order);
  let dragged = null;
  let before = "";
  const place = (y) => {
    const next = entries().find((entry) => {
      if (entry === dragged) return false;
      const box = entry.getBoundingClientRect();
      return y < box.top + box.height / 2;
    });
    if (next) { if (next !== dragged.nextElementSibling) list.insertBefore(dragged, next); }
    else if (list.lastElementChild !== dragged) list.appendChild(dragged);
  };
  const drop = async () => {
    const entry = dragged;
    entry.classList.remove("dragging");
    dragged = null;
    const now = entries().map((item) => item.dataset.item).join(",");
    if (now === before) return;
    order.querySelector("input[name=order]").value = now;
    try {
      say(status, await send(order));
    } catch (error) {
      say(status, error.message || list.dataset.failed);
    }
  };
  // Moves and the release are followed on the whole document: moving the entry in the page takes it
  // out and back in, which ends any pointer capture its handle had.
  const move = (event) => {
    if (!dragged) return;
    // Near the window's top or bottom edge the page scrolls, so an entry can travel a long pack.
    if (event.clientY < 60) window.scrollBy(0, -30);
    else if (event.clientY > window.innerHeight - 60) window.scrollBy(0, 30);
    place(event.clientY);
  };
  const release = () => {
    document.removeEventListener("pointermove", move);
    document.removeEventListener("pointerup", release);
    document.removeEventListener("pointercancel", release);
    if (dragged) drop();
  };
  list.querySelectorAll("[data-drag]").forEach((handle) => {
    handle.hidden = false;
    handle.addEventListener("pointerdown", (event) => {
      if (event.button !== 0 || dragged) return;
      event.preventDefault();
      dragged = handle.closest("[data-item]");
      before = entries().map((item) => item.dataset.item).join(",");
      dragged.classList.add("dragging");
      document.addEventListener("pointermove", move);
      document.addEventListener("pointerup", release);
      document.addEventListener("pointercancel", release);
    });
  });
});
