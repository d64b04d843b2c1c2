// Upgrading a stack deployed by an earlier version of this package (0.1.0 before the issue-12 fixes), whose remote
// Commands carried `triggers` (content hashes; the droplet id for host-ready). The current commands have none, and
// for the same resource name a removed `triggers` is a change of a replace-on-change input (@pulumi/command 1.2.1:
// `Triggers ... provider:"replaceOnChanges"` in provider/pkg/provider/common/inputs.go; its Diff, pulumi-go-provider
// v1.3.0 infer/resource.go diff(), turns a changed top-level key whose schema property has ReplaceOnChanges into a
// *Replace kind — the removed `triggers` key included; element changes "triggers[i]" are caught by the SDK's
// replaceOnChanges ["triggers[*]"]). A replace runs the new create and then the OLD state's `delete` — for the old
// `<n>-deploy` the teardown of the whole site, for the old smoke timer its uninstall.
//
// `ignoreChanges: ["triggers"]` prevents that: before diffing, the engine resets each ignored path of the new inputs
// to the old inputs' value (pulumi pkg/resource/deploy/step_generator.go processIgnoreChanges: `path.Reset(oldInputs,
// ignoredInputs)`; a path absent from the old inputs is removed from the new). So an upgraded stack sees the old
// triggers unchanged and gets an in-place Update — `update` runs the new script and the stored state takes the new
// inputs, including the new (empty or unchanged) `delete`; no old delete runs. A stack created by this version has
// no triggers in its state, and the option changes nothing for it. No alias is needed: the names did not change.
import type * as pulumi from "@pulumi/pulumi";

/** Resource options for every remote Command that had `triggers` in 0.1.0: an upgrade is an update, never a replace. */
export const UPGRADE_FROM_TRIGGERS: Pick<pulumi.CustomResourceOptions, "ignoreChanges"> = { ignoreChanges: ["triggers"] };
