// /api/docs/: our settings for Swagger UI, and a plugin that changes its markup where
// it fails WCAG 2.2 AA (axe), so that the widget passes without a fork of Swagger UI.
// A classic script, loaded after Swagger UI's bundle and before the start-up script
// (drf-spectacular's), which reads window.appApiDocsSettings: SPECTACULAR_SETTINGS's
// SWAGGER_UI_SETTINGS names it. A file from this site, so the CSP allows it.
(function () {
  'use strict'

  // An operation's summary is one <button> that opens it. With deep linking on, Swagger
  // UI also puts a link to the operation inside that button: a control inside a control
  // (axe: nested-interactive) and a 19px-high target (target-size). Deep linking stays
  // on (the address follows what is open, and an address with #/tag/operation opens it),
  // only that inner link goes: the path is shown as text.
  function summaryPathAsText (Original, system) {
    return function (props) {
      const operationProps = props.operationProps && props.operationProps.set('isDeepLinkingEnabled', false)
      return system.React.createElement(Original, Object.assign({}, props, { operationProps: operationProps }))
    }
  }

  // Names Swagger UI leaves out, or gives that differ from the words shown (a speech
  // user says what they see). Set on the elements as Swagger UI renders them: React
  // keeps attributes it does not manage.
  const NAMES = [
    // The examples drop-down has no label (select-name).
    { selector: 'select.examples-select-element:not([aria-label])', label: 'Example' },
    // The dialog's close button is an icon alone (button-name).
    { selector: 'button.close-modal:not([aria-label])', label: 'Close' },
    // Try it out's request body has an empty title and no label (label).
    { selector: 'textarea.body-param__text:not([aria-label])', label: 'Request body' }
  ]
  // "Authorize" named "Apply credentials", "Logout" named "Remove authorization"
  // (label-content-name-mismatch): the visible word is the name.
  const MISMATCHED = '.auth-btn-wrapper button[aria-label]'
  // Code blocks (the curl command, a response body) scroll sideways when they are wider
  // than the screen: focusable, so a keyboard can scroll them (scrollable-region-focusable).
  const SCROLLING_CODE = 'pre.microlight:not([tabindex])'

  function nameControls (root) {
    for (const { selector, label } of NAMES) {
      for (const element of root.querySelectorAll(selector)) {
        element.setAttribute('aria-label', label)
      }
    }
    for (const button of root.querySelectorAll(MISMATCHED)) {
      button.removeAttribute('aria-label')
    }
    for (const code of root.querySelectorAll(SCROLLING_CODE)) {
      code.setAttribute('tabindex', '0')
    }
  }

  function accessibleMarkup () {
    return {
      wrapComponents: { OperationSummaryPath: summaryPathAsText },
      afterLoad: function () {
        const root = document.getElementById('swagger-ui')
        if (!root) return
        nameControls(root)
        new MutationObserver(function () { nameControls(root) }).observe(root, {
          childList: true,
          subtree: true
        })
      }
    }
  }

  window.appApiDocsSettings = {
    deepLinking: true,
    // drf-spectacular's start-up script passes only the APIs preset; ours is added to it.
    presets: [window.SwaggerUIBundle.presets.apis, accessibleMarkup]
  }
})()
