// Issue form: the hint under Device names what an empty Device becomes for the typed username
// (phone, then phone-2, … per person), asked from the portal as the username changes. Without
// this script the hint shows the name for the username the form was rendered with.
const username = document.getElementById('f-username');
const hint = document.getElementById('h-device');
if (username && hint) {
  let asked = 0;
  const update = async () => {
    const ask = ++asked;
    try {
      const response = await fetch(`/certificates/new/device?username=${encodeURIComponent(username.value.trim())}`, {
        headers: { accept: 'application/json' },
        credentials: 'same-origin',
      });
      if (!response.ok || ask !== asked) return;
      const { device } = await response.json();
      hint.textContent = hint.textContent.replace(/“[^”]*”/, `“${device}”`);
    } catch {
      // The hint keeps the name it had; the portal still picks a free one when issuing.
    }
  };
  username.addEventListener('change', update);
  username.addEventListener('blur', update);
}
