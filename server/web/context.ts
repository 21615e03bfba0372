// The types fastify is extended with: the page renderer and the session's fields.
export interface PageData {
  title: string;
  [key: string]: unknown;
}

declare module 'fastify' {
  interface FastifyReply {
    /** Renders `views/<view>.eta` inside the layout, with the session's admin, flash and CSRF token. */
    page(view: string, data: PageData): Promise<FastifyReply>;
  }
  interface Session {
    admin?: string;
    signedInAt?: number;
    lastSeenAt?: number;
  }
}
