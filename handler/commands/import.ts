import { importedArchive, parseArchive } from "../store/archive-format";
import { FileTooLargeError } from "../telegram/client";
import type { UpdateContext } from "../conversation/update-context";
import { formatSize, shortId } from "../format/views";

/**
 * A document sent to the bot: getFile, download (refusing files over the limit), parse,
 * validate against the archive schema, store as a new archive with a new session id.
 */
export async function handleImport(ctx: UpdateContext): Promise<void> {
  const document = ctx.message.document;
  if (!document) return;
  const archives = ctx.archives;
  if (!archives) {
    await ctx.reply("Archives are not available: the bot has no S3 bucket configured (S3_BUCKET_NAME).");
    return;
  }
  const name = document.file_name ?? "";
  if (!/\.json$/i.test(name) && document.mime_type !== "application/json") {
    await ctx.reply("To import an archive, send the .json file that /export gave you.");
    return;
  }
  const limit = ctx.config.maxImportBytes;
  const tooLarge = `That file is larger than ${formatSize(limit)}, the most I import. Nothing was imported.`;
  if (document.file_size !== undefined && document.file_size > limit) {
    await ctx.reply(tooLarge);
    return;
  }
  const file = await ctx.bot.call("getFile", { file_id: document.file_id });
  if (file.file_size !== undefined && file.file_size > limit) {
    await ctx.reply(tooLarge);
    return;
  }
  if (!file.file_path) {
    await ctx.reply("Telegram did not let me download that file. Please send it again.");
    return;
  }
  let bytes: Uint8Array;
  try {
    bytes = await ctx.bot.downloadFile(file.file_path, limit);
  } catch (err) {
    if (err instanceof FileTooLargeError) {
      await ctx.reply(tooLarge);
      return;
    }
    throw err;
  }
  const result = await parseArchive(bytes);
  if (!result.ok) {
    ctx.log.info("import rejected", { action: "import_archive", outcome: "failure", problems: result.problems.length });
    await ctx.reply(["That file is not a valid archive:", ...result.problems.map((p) => `- ${p}`)].join("\n"));
    return;
  }
  const archive = importedArchive(result.archive, ctx.userId, ctx.journal.idFor("import"), new Date(ctx.now()));
  await archives.put(archive);
  ctx.log.info("archive imported", { action: "import_archive", outcome: "success", session_id: archive.session_id });
  await ctx.reply(
    `Imported archive ${shortId(archive.session_id)} (${archive.model_name}, ${archive.conversation.length} messages) ` +
      `from session ${shortId(result.archive.session_id)}. It is listed in /listarchives.`,
  );
}
