// Loopback origins of the servers that playwright.config.ts starts for the browser tests.

export const OP_PORT = 4100;
export const APP_PORT = 3100;
export const OP_ORIGIN = `http://127.0.0.1:${OP_PORT}`;
export const APP_ORIGIN = `http://127.0.0.1:${APP_PORT}`;
