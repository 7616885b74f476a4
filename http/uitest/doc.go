// Package uitest holds the browser tests of the backoffice and the demo
// storefront: a whole Honten (internal/apitest) driven through headless
// Chromium (internal/browser, chromedp) as a person would use it. It has
// no code of its own.
package uitest
