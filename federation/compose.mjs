// Composes Federation 2 subgraph SDL files into a supergraph SDL, failing on any composition error.
import { readFileSync, writeFileSync } from "node:fs";
import { basename } from "node:path";
import { parseArgs } from "node:util";

import { composeServices } from "@apollo/composition";
import { GraphQLError, Source, parse } from "graphql";

const SCRIPT = basename(process.argv[1] ?? "compose.mjs");
const USAGE = `usage: node ${SCRIPT} [--out FILE] NAME=PATH[@URL] [NAME=PATH[@URL] ...]

Composes the subgraph SDL files into a supergraph and writes it to FILE (default: stdout).
URL is the subgraph's routing URL (default: http://localhost/NAME).
Composition errors go to stderr and make the exit status 1; hints are printed as warnings.`;

const NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_-]*$/;
// `@` followed by a URL scheme; anything before it is the path (which may itself contain `@`).
const URL_SUFFIX = /^(.+?)@([A-Za-z][A-Za-z0-9+.-]*:\/\/.+)$/;

/** A problem reported as a single message, with exit status 1 and no stack trace. */
class CliError extends Error {}

/** A problem with the command line itself; the usage text is printed after it. */
class UsageError extends CliError {}

function parseCommandLine(argv) {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        out: { type: "string", short: "o" },
        help: { type: "boolean", short: "h" },
      },
      allowPositionals: true,
    });
  } catch (error) {
    throw new UsageError(error.message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    return { help: true };
  }
  if (positionals.length === 0) {
    throw new UsageError("no subgraphs given");
  }
  const subgraphs = positionals.map(parseSubgraphSpec);
  const seen = new Set();
  for (const { name } of subgraphs) {
    if (seen.has(name)) {
      throw new UsageError(`subgraph name "${name}" is given more than once`);
    }
    seen.add(name);
  }
  return { out: values.out, subgraphs };
}

/** Parses `name=path[@url]`. */
function parseSubgraphSpec(spec) {
  const separator = spec.indexOf("=");
  if (separator <= 0 || separator === spec.length - 1) {
    throw new UsageError(`expected NAME=PATH[@URL], got "${spec}"`);
  }
  const name = spec.slice(0, separator);
  if (!NAME_PATTERN.test(name)) {
    throw new UsageError(`invalid subgraph name "${name}" (letters, digits, "_" and "-" only)`);
  }
  const location = spec.slice(separator + 1);
  const match = URL_SUFFIX.exec(location);
  const [path, url] = match ? [match[1], match[2]] : [location, `http://localhost/${name}`];
  return { name, path, url };
}

function loadSubgraph({ name, path, url }) {
  let sdl;
  try {
    sdl = readFileSync(path, "utf8");
  } catch (error) {
    throw new CliError(`cannot read subgraph "${name}" from ${path}: ${error.message}`);
  }
  try {
    return { name, url, typeDefs: parse(new Source(sdl, path)) };
  } catch (error) {
    if (error instanceof GraphQLError) {
      throw new CliError(`cannot parse subgraph "${name}": ${error.toString()}`);
    }
    throw error;
  }
}

/** Indents every line after the first, so multi-line messages stay readable in a list. */
function indentContinuation(text, prefix = "    ") {
  return text.replaceAll("\n", `\n${prefix}`);
}

function formatError(error) {
  const code = error.extensions?.code;
  return indentContinuation(code ? `[${code}] ${error.message}` : error.message);
}

function main(argv) {
  const options = parseCommandLine(argv);
  if (options.help) {
    console.log(USAGE);
    return 0;
  }

  const services = options.subgraphs.map(loadSubgraph);
  const result = composeServices(services);

  if (result.errors) {
    console.error(`error: composition failed with ${result.errors.length} error(s):`);
    for (const error of result.errors) {
      console.error(`  ${formatError(error)}`);
    }
    return 1;
  }

  for (const hint of result.hints) {
    console.error(`warning: ${indentContinuation(hint.toString())}`);
  }

  const supergraph = result.supergraphSdl.endsWith("\n")
    ? result.supergraphSdl
    : `${result.supergraphSdl}\n`;
  if (options.out) {
    try {
      writeFileSync(options.out, supergraph);
    } catch (error) {
      throw new CliError(`cannot write ${options.out}: ${error.message}`);
    }
  } else {
    process.stdout.write(supergraph);
  }

  const destination = options.out ?? "stdout";
  console.error(
    `Composed ${services.length} subgraph(s) with ${result.hints.length} hint(s) into ${destination}.`,
  );
  return 0;
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (error) {
  if (!(error instanceof CliError)) {
    throw error;
  }
  console.error(`error: ${error.message}`);
  if (error instanceof UsageError) {
    console.error(`\n${USAGE}`);
  }
  process.exitCode = 1;
}
