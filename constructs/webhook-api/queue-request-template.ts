import { CONTROL_GROUP_SUFFIX, NO_CHAT_GROUP } from "../../config/queue-groups";

/**
 * The request template of queue mode's API Gateway → SQS integration: it turns Telegram's
 * webhook POST into an SQS `SendMessage` call of the Query API (a form-encoded body), so no
 * Lambda runs on the ingest path.
 *
 * - `MessageGroupId`: config/queue-groups.ts's `messageGroupIdOf` in VTL (tested to agree):
 *   the chat, or the chat's control group for a button press or `/stop`.
 * - `MessageDeduplicationId`: the `update_id`, so a webhook Telegram delivers twice within
 *   SQS's 5-minute window is queued once.
 * - `MessageBody`: the raw body exactly as Telegram sent it (`$input.body`), URL-encoded.
 *
 * Each directive line ends in `##` (a VTL comment that swallows the line break), so the
 * rendered request is one line whatever the engine does with whitespace. `$input.path`
 * yields numbers as integers (chat ids do not fit 32 bits, so they must not be floats). No
 * `${` or `%{` anywhere: the template passes through Terraform, which would interpolate them.
 */


/** The content type Telegram posts with, which selects the template. */
export const QUEUE_REQUEST_CONTENT_TYPE = "application/json";

/** The template (Velocity Template Language, API Gateway's dialect). */
export const QUEUE_REQUEST_TEMPLATE = [
  "## Telegram update -> SQS SendMessage (form-encoded Query API request)",
  "#set($chat = $input.path('$.message.chat.id'))##",
  "#if(\"$!chat\" == \"\")#set($chat = $input.path('$.edited_message.chat.id'))#end##",
  "#if(\"$!chat\" == \"\")#set($chat = $input.path('$.callback_query.message.chat.id'))#end##",
  "#if(\"$!chat\" == \"\")#set($chat = $input.path('$.callback_query.from.id'))#end##",
  "#if(\"$!chat\" == \"\")#set($group = \"" + NO_CHAT_GROUP + "\")#else#set($group = \"$chat\")#end##",
  "#set($text = \"$!input.path('$.message.text')\")##",
  "#if(\"$!input.path('$.callback_query.id')\" != \"\" || $text == \"/stop\" || $text.startsWith(\"/stop@\") || $text.startsWith(\"/stop \"))##",
  // "$group" + suffix, not "${group}": Terraform would read ${…} as its own interpolation.
  "#set($group = \"$group" + CONTROL_GROUP_SUFFIX + "\")#end##",
  "Action=SendMessage&MessageGroupId=$util.urlEncode($group)&MessageDeduplicationId=$util.urlEncode(\"$input.path('$.update_id')\")&MessageBody=$util.urlEncode($input.body)",
].join("\n");
