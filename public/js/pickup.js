// A pickup QR code shown in person carries the code in the URL's fragment (#code=123456), which
// never reaches the server: fill it in, so that nothing needs typing, and drop it from the address bar.
const match = /(?:^#|&)code=(\d{6})(?:&|$)/.exec(location.hash);
const field = document.getElementById('f-code');
if (match && field) {
  field.value = match[1];
  history.replaceState(null, '', location.pathname + location.search);
}
