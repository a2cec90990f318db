import { markdownToTelegramHtml, openFence, RULE_LINE } from "../../../handler/format/markdown-html";
import { checkTelegramHtml } from "../../../local/stand-ins/telegram/server";
import { randomMarkdown, seededRandom } from "./random-markdown";

function expectValid(html: string): string {
  const check = checkTelegramHtml(html);
  if (!check.ok) throw new Error(`Telegram would refuse ${JSON.stringify(html)}: ${check.reason}`);
  return check.text;
}

describe("markdownToTelegramHtml", () => {
  it("converts bold and italic in both spellings", () => {
    expect(markdownToTelegramHtml("**a** __b__ *c* _d_")).toBe("<b>a</b> <b>b</b> <i>c</i> <i>d</i>");
  });

  it("handles nested emphasis", () => {
    expect(markdownToTelegramHtml("**bold *italic* bold**")).toBe("<b>bold <i>italic</i> bold</b>");
    expect(markdownToTelegramHtml("*it **bold** it*")).toBe("<i>it <b>bold</b> it</i>");
    expect(markdownToTelegramHtml("***both***")).toBe("<i><b>both</b></i>");
  });

  it("does not nest a tag inside the same tag", () => {
    expect(markdownToTelegramHtml("# Title **bold**")).toBe("<b>Title bold</b>");
  });

  it("leaves underscores inside identifiers alone", () => {
    expect(markdownToTelegramHtml("call snake_case_name and my_var_")).toBe("call snake_case_name and my_var_");
  });

  it("leaves lone and unclosed delimiters as literal text", () => {
    expect(markdownToTelegramHtml("2 * 3 * 4 and **open")).toBe("2 * 3 * 4 and **open");
    expect(markdownToTelegramHtml("~one~ ~~two~~")).toBe("~one~ <s>two</s>");
  });

  it("escapes <, > and & in text, including HTML-looking model output", () => {
    expect(markdownToTelegramHtml("a < b && c > d <div>x</div> &amp;")).toBe(
      "a &lt; b &amp;&amp; c &gt; d &lt;div&gt;x&lt;/div&gt; &amp;amp;",
    );
  });

  it("renders inline code escaped and without formatting inside", () => {
    expect(markdownToTelegramHtml("use `a **b** <c>` here")).toBe("use <code>a **b** &lt;c&gt;</code> here");
    expect(markdownToTelegramHtml("``a ` b``")).toBe("<code>a ` b</code>");
  });

  it("renders a fenced code block with its language", () => {
    expect(markdownToTelegramHtml("```python\nif a < b:\n    pass\n```")).toBe(
      '<pre><code class="language-python">if a &lt; b:\n    pass</code></pre>',
    );
  });

  it("closes a fence left open at the end (mid-stream)", () => {
    expect(markdownToTelegramHtml("see:\n```js\nconst x = 1 & 2;\n")).toBe(
      'see:\n<pre><code class="language-js">const x = 1 &amp; 2;</code></pre>',
    );
  });

  it("renders a code block without language as plain pre", () => {
    expect(markdownToTelegramHtml("~~~\n*not italic*\n~~~")).toBe("<pre>*not italic*</pre>");
  });

  it("converts links, keeping parentheses inside the URL", () => {
    expect(markdownToTelegramHtml("[wiki](https://en.wikipedia.org/wiki/Foo_(bar))")).toBe(
      '<a href="https://en.wikipedia.org/wiki/Foo_(bar)">wiki</a>',
    );
  });

  it("escapes quotes in href", () => {
    expect(markdownToTelegramHtml('[x](https://e.com/?q="a"&b=1)')).toBe('<a href="https://e.com/?q=&quot;a&quot;&amp;b=1">x</a>');
  });

  it("keeps only the text of links with other schemes", () => {
    expect(markdownToTelegramHtml("[click](javascript:alert(1)) [rel](/path)")).toBe("click rel");
  });

  it("makes only http(s) links: no tg:// links (login, proxy, inline user mentions), no mailto", () => {
    expect(markdownToTelegramHtml("[me](tg://user?id=1) [login](tg://login?token=x) [p](tg://proxy?server=e.vil&port=1) [m](mailto:a@b.c)")).toBe("me login p m");
    expect(markdownToTelegramHtml("<tg://resolve?domain=x> <mailto:a@b.c> <https://x.org>")).toBe(
      '&lt;tg://resolve?domain=x&gt; &lt;mailto:a@b.c&gt; <a href="https://x.org">https://x.org</a>',
    );
  });

  it("shows the real target of a link whose text names another address", () => {
    expect(markdownToTelegramHtml("[https://accounts.google.com](https://evil.example/phish)")).toBe(
      '<a href="https://evil.example/phish">https://evil.example/phish</a>',
    );
    expect(markdownToTelegramHtml("[www.paypal.com/login](http://paypa1.example)")).toBe('<a href="http://paypa1.example">http://paypa1.example</a>');
    expect(markdownToTelegramHtml("[**bank.example**](https://other.example)")).toBe('<a href="https://other.example">https://other.example</a>');
  });

  it("keeps the text of a link that names its own host, or no address at all", () => {
    expect(markdownToTelegramHtml("[docs.python.org](https://docs.python.org/3/)")).toBe('<a href="https://docs.python.org/3/">docs.python.org</a>');
    expect(markdownToTelegramHtml("[www.example.com](https://example.com/a)")).toBe('<a href="https://example.com/a">www.example.com</a>');
    expect(markdownToTelegramHtml("[the docs](https://docs.python.org/3/)")).toBe('<a href="https://docs.python.org/3/">the docs</a>');
  });

  it("drops code formatting inside a link, which Telegram forbids", () => {
    expect(markdownToTelegramHtml("[`code`](https://x.org)")).toBe('<a href="https://x.org">code</a>');
  });

  it("renders lists as bullet and number lines", () => {
    expect(markdownToTelegramHtml("- one\n* two\n  + nested\n1. first\n2) second")).toBe(
      "• one\n• two\n  • nested\n1. first\n2. second",
    );
  });

  it("renders headings as bold lines", () => {
    expect(markdownToTelegramHtml("# One\n###### Six ##\nTitle\n===")).toBe("<b>One</b>\n<b>Six</b>\n<b>Title</b>");
  });

  it("renders blockquotes, flattening nested levels", () => {
    expect(markdownToTelegramHtml("> quoted **b**\n> > deeper")).toBe("<blockquote>quoted <b>b</b>\ndeeper</blockquote>");
  });

  it("renders code inside a blockquote without pre, which Telegram cannot nest", () => {
    expect(expectValid(markdownToTelegramHtml("> ```\n> x < 1\n> ```"))).toBe("x < 1");
  });

  it("renders a horizontal rule as a line", () => {
    expect(markdownToTelegramHtml("a\n\n---\n\nb")).toBe(`a\n\n${RULE_LINE}\n\nb`);
  });

  it("renders a table as aligned monospace columns", () => {
    expect(markdownToTelegramHtml("| a | bb |\n|---|---|\n| ccc | d |")).toBe("<pre>a   | bb\n----+---\nccc | d</pre>");
  });

  it("honours backslash escapes", () => {
    expect(markdownToTelegramHtml("\\*not italic\\*")).toBe("*not italic*");
  });

  it("collapses runs of blank lines but keeps them inside code", () => {
    expect(markdownToTelegramHtml("a\n\n\n\nb\n```\nx\n\n\ny\n```")).toBe("a\n\nb\n<pre>x\n\n\ny</pre>");
  });

  it("produces HTML Telegram accepts for hundreds of random Markdown-ish strings", () => {
    const random = seededRandom(42);
    for (let i = 0; i < 500; i += 1) {
      const markdown = randomMarkdown(random, 40);
      expectValid(markdownToTelegramHtml(markdown));
    }
  });
});

describe("openFence", () => {
  it("returns the opening line while a fence is open", () => {
    expect(openFence("text\n```ts\nconst a = 1;")).toBe("```ts");
  });

  it("returns undefined once the fence is closed", () => {
    expect(openFence("```ts\nconst a = 1;\n```\n")).toBeUndefined();
  });
});
