import { CONTROL_GROUP_SUFFIX, NO_CHAT_GROUP, STOP_BUTTON_ACTION } from "../../config/queue-groups";

/**
 * The request template of queue mode's API Gateway → SQS integration: it turns Telegram's
 * webhook POST into an SQS `SendMessage` call of the Query API (a form-encoded body), so no
 * Lambda runs on the ingest path.
 *
 * - `MessageGroupId`: config/queue-groups.ts's `messageGroupIdOf` in VTL (tested to agree):
 *   the chat, or the chat's control group for a Stop press or `/stop` in any spelling the
 *   command parser accepts (config/command-syntax.ts), computed only with String methods Java
 *   and JavaScript share (toLowerCase, startsWith, codePointAt; not trim, on which they
 *   differ), so the local Velocity engine renders it as API Gateway does.
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
  "#set($rawText = \"$!input.path('$.message.text')\")##",
  "#set($text = $rawText.toLowerCase())##",
  "#set($data = \"$!input.path('$.callback_query.data')\")##",
  "#set($control = false)##",
  "#if($data.startsWith(\"" + STOP_BUTTON_ACTION + ":\") || $text == \"/stop\" || $text.startsWith(\"/stop@\"))#set($control = true)#end##",
  // "/stop please": the character after "/stop" is a separator (a code point up to 32).
  "#if(!$control && $text.startsWith(\"/stop\") && $text.codePointAt(5) <= 32)#set($control = true)#end##",
  "#if($control)##",
  // "$group" + suffix, not "${group}": Terraform would read ${…} as its own interpolation.
  "#set($group = \"$group" + CONTROL_GROUP_SUFFIX + "\")#end##",
  "Action=SendMessage&MessageGroupId=$util.urlEncode($group)&MessageDeduplicationId=$util.urlEncode(\"$input.path('$.update_id')\")&MessageBody=$util.urlEncode($input.body)",
].join("\n");
