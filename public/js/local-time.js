// Shows <time datetime="..."> values (stored and rendered in UTC) in the browser's local time.
const format = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
for (const element of document.querySelectorAll('time[datetime]')) {
  const date = new Date(element.getAttribute('datetime'));
  if (Number.isNaN(date.getTime())) continue;
  element.title = element.textContent;
  element.textContent = format.format(date);
}
