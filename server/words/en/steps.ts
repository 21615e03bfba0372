// English words: steps. Part of the catalog in ../index.ts; keep user-facing text here, not in code or views.
export const steps = {} as const;
