declare module '@pushcorn/hocon-parser' {
  interface ParseOptions {
    url?: string;
    text?: string;
    strict?: boolean;
  }
  export default function parse(options: ParseOptions): Promise<unknown>;
}
