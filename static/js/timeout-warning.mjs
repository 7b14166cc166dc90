// The GOV.UK timeout warning pattern: 2 minutes before an idle session ends,
// a modal dialog offers "Stay signed in" (which touches the session through the
// keep-alive endpoint) or "Sign out". The server ends idle sessions by itself
// (accounts.middleware.IdleTimeoutMiddleware), so without JavaScript people are
// signed out all the same; this only warns them first.
//
// The dialog is a native <dialog> opened with showModal(): the browser keeps
// focus inside it and makes the page behind it inert. Escape counts as
// "Stay signed in", as in the pattern. Focus returns where it was afterwards.

const MINUTE = 60

function describe (seconds) {
  if (seconds >= MINUTE) {
    const minutes = Math.ceil(seconds / MINUTE)
    return `${minutes} minute${minutes === 1 ? '' : 's'}`
  }
  return `${seconds} second${seconds === 1 ? '' : 's'}`
}

export function initTimeoutWarning (dialog) {
  if (!dialog || typeof dialog.showModal !== 'function') {
    return
  }
  const timeout = Number(dialog.dataset.timeoutSeconds)
  const warning = Number(dialog.dataset.warningSeconds)
  const keepAliveUrl = dialog.dataset.keepAliveUrl
  const signedOutUrl = dialog.dataset.signedOutUrl
  if (!(timeout > warning && warning > 0)) {
    return
  }

  const heading = dialog.querySelector('[data-timeout-heading]')
  const countdown = dialog.querySelector('[data-timeout-countdown]')
  const announcer = dialog.querySelector('[data-timeout-announcer]')
  const stayButton = dialog.querySelector('[data-timeout-stay]')

  let expiresAt = 0
  let warnTimer = 0
  let tickTimer = 0
  let returnFocusTo = null

  function remaining () {
    return Math.max(0, Math.round((expiresAt - Date.now()) / 1000))
  }

  function tick () {
    const seconds = remaining()
    if (seconds === 0) {
      // The server has ended the session by now; it sends us to sign in and says why.
      window.location.assign(signedOutUrl)
      return
    }
    countdown.textContent = describe(seconds)
    // Screen readers hear the time left every 20 seconds, not every second.
    if (seconds % 20 === 0 || seconds <= 10) {
      announcer.textContent = `You will be signed out in ${describe(seconds)}.`
    }
    tickTimer = window.setTimeout(tick, 1000)
  }

  function open () {
    returnFocusTo = document.activeElement
    countdown.textContent = describe(remaining())
    announcer.textContent = ''
    dialog.showModal()
    heading.focus()
    tickTimer = window.setTimeout(tick, 1000)
  }

  function schedule (seconds) {
    window.clearTimeout(warnTimer)
    window.clearTimeout(tickTimer)
    expiresAt = Date.now() + seconds * 1000
    warnTimer = window.setTimeout(open, Math.max(0, (seconds - warning) * 1000))
  }

  async function staySignedIn () {
    window.clearTimeout(tickTimer)
    if (dialog.open) {
      dialog.close()
    }
    if (returnFocusTo && typeof returnFocusTo.focus === 'function') {
      returnFocusTo.focus()
    }
    try {
      const response = await fetch(keepAliveUrl, {
        credentials: 'same-origin',
        headers: { Accept: 'application/json' }
      })
      if (!response.ok || response.redirected) {
        window.location.assign(signedOutUrl)
        return
      }
      const body = await response.json()
      schedule(Number(body.expires_in) || timeout)
    } catch {
      // Offline for a moment: keep the old deadline; the server decides in the end.
      schedule(remaining())
    }
  }

  stayButton.addEventListener('click', staySignedIn)
  dialog.addEventListener('cancel', (event) => {
    event.preventDefault()
    staySignedIn()
  })

  schedule(timeout)
}
