/**
 * The Telegram Bot API stand-in lives in local/ because `npm start`'s terminal chat runs on it;
 * the tests reach it through this path like every other shared fixture.
 */
export * from "../../local/telegram-stand-in";
