// The isthmus version, printed by --version and reported by the proxies' /server_info.

export const VERSION = '0.1.0';
