/** Vite's client types (CSS imports, import.meta.env) for the UI's typecheck. */
/// <reference types="vite/client" />
