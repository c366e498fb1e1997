// Live preview: the server renders the Markdown with the same renderer as the published page.
(function () {
  const body = document.getElementById("body");
  const preview = document.getElementById("preview");
  if (!body || !preview) return;
  const token = document.querySelector('input[name="csrf_token"]').value;
  let timer = null;
  body.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(async function () {
      const data = new URLSearchParams({ body: body.value, csrf_token: token });
      const response = await fetch(body.dataset.previewUrl, {
        method: "POST", body: data, headers: { "X-CSRFToken": token }, credentials: "same-origin",
      });
      const text = await response.text();
      if (response.ok) {
        preview.innerHTML = text;  // sanitised server-side (nh3)
        return;
      }
      // Refused (too large, too complex, too many previews, busy): the error page says why.
      const message = new DOMParser().parseFromString(text, "text/html").querySelector(".error-message");
      const notice = document.createElement("p");
      notice.className = "notice error";
      notice.textContent = message ? message.textContent : `The preview is not available just now (${response.status}).`;
      preview.replaceChildren(notice);
    }, 400);
  });
})();
