/** The platform's version: printed by the CLI and served by the API. */
export const VERSION = "0.1.0";
