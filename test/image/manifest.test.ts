// The image's server-only manifest: derived from what server/src imports, pinned to the root versions.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { packageOf, scanImports, serverManifest } from "../../server/image-manifest.ts";
import { bundledPackages, packageDirOf } from "../../server/bundle.ts";
import { REPO_ROOT } from "../support/server-image.ts";

const root = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8"));

describe("image manifest", () => {
  it("maps import specifiers to package names", () => {
    assert.equal(packageOf("@modelcontextprotocol/sdk/server/mcp.js"), "@modelcontextprotocol/sdk");
    assert.equal(packageOf("zod"), "zod");
    assert.equal(packageOf("zod/v4"), "zod");
    assert.equal(packageOf("./config.ts"), null);
    assert.equal(packageOf("node:fs"), null);
    assert.equal(packageOf("fs"), null);
  });

  it("keeps the server's runtime packages at the root's versions and drops Pulumi and dev tooling", () => {
    const m = serverManifest(root, scanImports(join(REPO_ROOT, "server", "src")));
    assert.equal(m.type, "module");
    for (const [name, version] of Object.entries(m.dependencies!)) assert.equal(version, root.dependencies[name], name);
    for (const name of ["@modelcontextprotocol/sdk", "express", "zod"]) assert.ok(m.dependencies![name], name);
    const all = Object.keys({ ...m.dependencies, ...m.devDependencies });
    assert.deepEqual(all.filter((n) => n.startsWith("@pulumi/") || n === "fast-check" || n === "@modelcontextprotocol/conformance"), []);
    assert.equal(m.devDependencies!.typescript, root.devDependencies.typescript);
    assert.equal(m.devDependencies!.esbuild, root.dependencies.esbuild ?? root.devDependencies.esbuild);
    assert.equal(m.dependencies!.esbuild, undefined, "the bundler builds the image but is not bundled");
  });

  it("separates type-only imports and rejects undeclared packages by name", () => {
    const dir = mkdtempSync(join(tmpdir(), "manifest-"));
    try {
      mkdirSync(join(dir, "sub"));
      writeFileSync(join(dir, "a.ts"), 'import * as z from "zod";\nimport type { Request } from "express";\nimport {\n  x,\n} from "jose";\n');
      writeFileSync(join(dir, "sub", "b.ts"), 'const m = await import("pino");\nexport type { T } from "prom-client";\n');
      writeFileSync(join(dir, "sub", "b.test.ts"), 'import fc from "fast-check";\n');
      const imports = scanImports(dir);
      assert.deepEqual([...imports.runtime].sort(), ["jose", "pino", "zod"]);
      assert.deepEqual([...imports.typeOnly].sort(), ["express", "prom-client"]);
      const m = serverManifest(root, imports);
      assert.deepEqual(Object.keys(m.dependencies!), ["jose", "pino", "zod"]);
      assert.ok(m.devDependencies!["@types/express"] || m.devDependencies!.express);
      writeFileSync(join(dir, "c.ts"), 'import left from "left-pad";\n');
      assert.throws(() => serverManifest(root, scanImports(dir)), /server\/src imports left-pad but the root package.json does not declare it/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("attributes bundled files to their package directories, nested ones included", () => {
    assert.equal(packageDirOf("node_modules/express/lib/express.js"), "node_modules/express");
    assert.equal(packageDirOf("node_modules/@modelcontextprotocol/sdk/dist/esm/server/mcp.js"), "node_modules/@modelcontextprotocol/sdk");
    assert.equal(packageDirOf("node_modules/a/node_modules/@s/b/index.js"), "node_modules/a/node_modules/@s/b");
    assert.equal(packageDirOf("dist/server/src/main.js"), null);
    const pkgs = bundledPackages(["node_modules/zod/index.js", "node_modules/zod/v4/core/core.js", "dist/server/src/main.js"], REPO_ROOT);
    assert.deepEqual(pkgs, { "node_modules/zod": { name: "zod", version: root.dependencies.zod, license: "MIT" } });
  });
});
