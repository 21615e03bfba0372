// Reads a secret for an admin command: a hidden prompt on a terminal, else the first line of stdin.
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';

export async function readSecret(question: string, input: NodeJS.ReadStream = process.stdin): Promise<string> {
  if (!input.isTTY) {
    let text = '';
    for await (const chunk of input) text += String(chunk);
    return text.split(/\r?\n/)[0] ?? '';
  }
  let muted = false;
  const output = new Writable({
    write(chunk, _encoding, callback) {
      if (!muted) process.stderr.write(chunk);
      callback();
    },
  });
  const rl = createInterface({ input, output, terminal: true });
  const answer = new Promise<string>((resolve) => rl.question(question, resolve));
  muted = true;
  const secret = await answer;
  rl.close();
  process.stderr.write('\n');
  return secret;
}
