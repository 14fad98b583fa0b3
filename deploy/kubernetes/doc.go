// Package kubernetes holds the manifests that run a sharded sawtooth run
// as a Kubernetes Indexed Job (shards.yaml), its scenario and results
// volume (scenario.yaml) and the merge step (merge.yaml); see
// docs/distributed.md. Its test decodes them strictly with the
// Kubernetes API types, so a misspelt field fails the build.
package kubernetes
