/** One `flashline` sub-command. Errors are printed by main; a command returns its exit code. */
export interface CliCommand {
  /** e.g. "nvs generate"; matched against the leading words of argv. */
  name: string;
  usage: string;
  summary: string;
  run(args: string[], io: CliIo): Promise<number>;
}

export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
}
