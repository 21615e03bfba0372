// Errors that stop start-up or an admin command with one clear line instead of a stack trace.
export class StartupError extends Error {
  override name = 'StartupError';
}
