// Moments in the reader's own time zone. The server writes each one in UTC and says so ("Dec 8, 2026
// 2:30 AM UTC"): a page is cached for every reader, so only the browser knows where its reader is. Here
// each <time data-local-time> is rewritten with Intl in the page's language and the reader's zone, the zone
// named ("Dec 8, 2026, 11:30 AM GMT+9"); the time in UTC stays in its title. Without this script, or where
// Intl cannot format, the UTC text stays as it is: still right, and marked.
"use strict";

(() => {
  let local;
  try {
    local = new Intl.DateTimeFormat(document.documentElement.lang || undefined, {
      year: "numeric", month: "short", day: "numeric", hour: "numeric", minute: "2-digit", timeZoneName: "short",
    });
  } catch (_) {
    return;
  }
  document.querySelectorAll("time[data-local-time]").forEach((time) => {
    const moment = new Date(time.dateTime);
    if (Number.isNaN(moment.getTime())) return;
    if (time.dataset.localTime === "title") {  // "3 days ago": the moment itself is in the title
      time.title = local.format(moment);
      return;
    }
    time.title = time.textContent.trim();
    time.textContent = local.format(moment);
  });
})();
