import type { ButtonAction } from "../conversation/buttons";
import type { UpdateContext } from "../conversation/update-context";

/** One bot command: how /help lists it and what it does. */
export interface Command {
  /** Name without the slash, lower case. */
  readonly name: string;
  /** Other names that run it (`hello` for `start`). */
  readonly aliases?: readonly string[];
  /** How /help shows the call, e.g. `/switch <n>`. */
  readonly usage: string;
  /** One line for /help. */
  readonly description: string;
  /**
   * The command shows or changes the user's own sessions or archives: in a group it answers
   * PRIVATE_ONLY_TEXT instead, so nothing private is posted there. @default false
   */
  readonly privateOnly?: boolean;
  /** Handles the command; `args` is the trimmed text after it. */
  run(ctx: UpdateContext, args: string): Promise<void>;
  /**
   * The buttons the command shows (a picker, Stop, Retry): their action code, and what a press
   * does with the button's argument (ctx.press is set). @default - the command has no buttons
   */
  readonly button?: {
    readonly action: ButtonAction;
    press(ctx: UpdateContext, argument: string): Promise<void>;
  };
}
