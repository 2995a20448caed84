/* Refusals (4xx) stay with the page that asked.
 *
 * With DEBUG on (`make run`), django-htmx adds a script that swaps any 400, 403 or 404
 * answer in place of the whole document, to show Django's debug page. Our pages answer
 * refusals with a message meant for their alert region (annotations/static/annotations/
 * annotate.js shows it): the page must look the same with debug on as in production. Its
 * listener sits on `document`; an htmx event reaches <body> first on its way up, so stopping
 * it there keeps 4xx answers away from it. Server errors (5xx) still go up: in development
 * the traceback is what one wants to see.
 */
(() => {
  "use strict";

  document.body.addEventListener("htmx:beforeOnLoad", (event) => {
    const status = event.detail.xhr.status;
    if (status >= 400 && status < 500) event.stopPropagation();
  });
})();
