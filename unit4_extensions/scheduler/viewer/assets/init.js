// Starts Swagger UI on the element #swagger-ui. Kept out of the HTML so that the page's
// Content-Security-Policy can forbid inline scripts. The element says which document to load
// (data-spec-url) and whether "Try it out" may send requests (data-try-it-out="false" in the
// guide, which has no API server behind it).
window.addEventListener("load", function () {
  const element = document.getElementById("swagger-ui");
  const options = {
    url: element.dataset.specUrl,
    domNode: element,
    deepLinking: true,
    layout: "BaseLayout",
    presets: [SwaggerUIBundle.presets.apis],
    // No badge from validator.swagger.io: the viewer makes no request beyond its own origin.
    validatorUrl: null,
    defaultModelsExpandDepth: 0,
  };
  if (element.dataset.tryItOut === "false") {
    options.supportedSubmitMethods = [];
  }
  window.ui = SwaggerUIBundle(options);
});
