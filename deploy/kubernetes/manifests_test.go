package kubernetes

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/sawtooth-dev/sawtooth/runner/attack"
	"github.com/sawtooth-dev/sawtooth/scenarios"
)

// objects are the manifests decoded, by kind and name.
type objects struct {
	jobs       map[string]*batchv1.Job
	configMaps map[string]*corev1.ConfigMap
	claims     map[string]*corev1.PersistentVolumeClaim
}

// decode reads every *.yaml here and decodes each document strictly (an
// unknown or misspelt field is an error) into its Kubernetes type.
func decode(t *testing.T) objects {
	t.Helper()
	o := objects{jobs: map[string]*batchv1.Job{}, configMaps: map[string]*corev1.ConfigMap{}, claims: map[string]*corev1.PersistentVolumeClaim{}}
	files, err := filepath.Glob("*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests: %v", err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, doc := range bytes.Split(data, []byte("\n---\n")) {
			var head struct {
				APIVersion string `json:"apiVersion"`
				Kind       string `json:"kind"`
			}
			if err := yaml.Unmarshal(doc, &head); err != nil {
				t.Fatalf("%s document %d: %v", f, i+1, err)
			}
			var obj interface{ GetName() string }
			switch head.APIVersion + " " + head.Kind {
			case "batch/v1 Job":
				obj = &batchv1.Job{}
			case "v1 ConfigMap":
				obj = &corev1.ConfigMap{}
			case "v1 PersistentVolumeClaim":
				obj = &corev1.PersistentVolumeClaim{}
			default:
				t.Fatalf("%s document %d: unexpected %s %s", f, i+1, head.APIVersion, head.Kind)
			}
			if err := yaml.UnmarshalStrict(doc, obj); err != nil {
				t.Fatalf("%s document %d (%s): %v", f, i+1, head.Kind, err)
			}
			switch v := obj.(type) {
			case *batchv1.Job:
				o.jobs[v.Name] = v
			case *corev1.ConfigMap:
				o.configMaps[v.Name] = v
			case *corev1.PersistentVolumeClaim:
				o.claims[v.Name] = v
			}
		}
	}
	return o
}

// Strict decoding does catch a misspelt field.
func TestStrictDecodingCatchesTypos(t *testing.T) {
	var j batchv1.Job
	err := yaml.UnmarshalStrict([]byte("apiVersion: batch/v1\nkind: Job\nspec:\n  completionMod: Indexed\n"), &j)
	if err == nil || !strings.Contains(err.Error(), "completionMod") {
		t.Fatalf("a misspelt field decoded: %v", err)
	}
}

// The shards' Job is an Indexed Job of N pods, one per node, each running
// "sawtooth run --shard $(JOB_COMPLETION_INDEX)/N --start-at $(START_AT)"
// on the scenario's ConfigMap and writing to the results volume that the
// merge Job reads; the scenario is a valid url-target scenario.
func TestManifests(t *testing.T) {
	o := decode(t)
	job := o.jobs["sawtooth-shards"]
	if job == nil {
		t.Fatal("no Job sawtooth-shards")
	}
	s := job.Spec
	if s.CompletionMode == nil || *s.CompletionMode != batchv1.IndexedCompletion {
		t.Errorf("completionMode = %v, want Indexed", s.CompletionMode)
	}
	if s.Completions == nil || s.Parallelism == nil || *s.Completions != *s.Parallelism {
		t.Fatalf("completions %v, parallelism %v: want both set and equal", s.Completions, s.Parallelism)
	}
	n := int(*s.Parallelism)
	pod := s.Template.Spec
	if pod.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("restartPolicy = %q, want Never (a restarted shard starts late)", pod.RestartPolicy)
	}
	aa := pod.Affinity
	if aa == nil || aa.PodAntiAffinity == nil || len(aa.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution) == 0 {
		t.Fatal("no pod anti-affinity spreading the shards across nodes")
	}
	term := aa.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution[0]
	if term.TopologyKey != "kubernetes.io/hostname" || term.LabelSelector == nil {
		t.Errorf("anti-affinity term %+v: want topologyKey kubernetes.io/hostname and a label selector", term)
	}
	for k, v := range term.LabelSelector.MatchLabels {
		if s.Template.Labels[k] != v {
			t.Errorf("anti-affinity selects %s=%s, which the shard pods do not carry", k, v)
		}
	}
	if len(pod.Containers) != 1 {
		t.Fatalf("%d containers, want 1", len(pod.Containers))
	}
	c := pod.Containers[0]
	env := map[string]corev1.EnvVar{}
	for _, e := range c.Env {
		env[e.Name] = e
	}
	idx := env["JOB_COMPLETION_INDEX"]
	if idx.ValueFrom == nil || idx.ValueFrom.FieldRef == nil || idx.ValueFrom.FieldRef.FieldPath != "metadata.annotations['batch.kubernetes.io/job-completion-index']" {
		t.Errorf("JOB_COMPLETION_INDEX = %+v, want the job-completion-index annotation", idx)
	}
	if env["START_AT"].Value == "" {
		t.Error("no START_AT passed in")
	}
	args := c.Args
	if len(args) < 2 || args[0] != "run" {
		t.Fatalf("args %q: want sawtooth run", args)
	}
	flag := func(name string) string {
		i := slices.Index(args, name)
		if i < 0 || i+1 >= len(args) {
			t.Fatalf("args %q: no %s", args, name)
		}
		return args[i+1]
	}
	if got, want := flag("--shard"), "$(JOB_COMPLETION_INDEX)/"+strconv.Itoa(n); got != want {
		t.Errorf("--shard %s, want %s (N = parallelism)", got, want)
	}
	if _, err := attack.ParseShard(strings.Replace(flag("--shard"), "$(JOB_COMPLETION_INDEX)", strconv.Itoa(n-1), 1)); err != nil {
		t.Errorf("the last pod's --shard: %v", err)
	}
	if flag("--start-at") != "$(START_AT)" {
		t.Errorf("--start-at %s, want $(START_AT)", flag("--start-at"))
	}
	mounts := map[string]string{}
	for _, m := range c.VolumeMounts {
		mounts[m.Name] = m.MountPath
	}
	if !strings.HasPrefix(flag("--out"), mounts["results"]+"/") {
		t.Errorf("--out %s is not on the results volume (mounted at %q)", flag("--out"), mounts["results"])
	}
	if !strings.HasPrefix(args[1], mounts["scenario"]+"/") {
		t.Errorf("scenario %s is not on the scenario volume (mounted at %q)", args[1], mounts["scenario"])
	}
	vols := map[string]corev1.Volume{}
	for _, v := range pod.Volumes {
		vols[v.Name] = v
	}
	cm := vols["scenario"].ConfigMap
	if cm == nil || o.configMaps[cm.Name] == nil {
		t.Fatalf("the scenario volume is not one of the ConfigMaps here")
	}
	file := strings.TrimPrefix(args[1], mounts["scenario"]+"/")
	sc, err := scenarios.Parse([]byte(o.configMaps[cm.Name].Data[file]), "ConfigMap "+cm.Name+"/"+file)
	if err != nil {
		t.Fatalf("the ConfigMap's scenario: %v", err)
	}
	if sc.Target.URL == nil {
		t.Error("the scenario's target is not a url target; a shard refuses others")
	}
	claim := vols["results"].PersistentVolumeClaim
	if claim == nil || o.claims[claim.ClaimName] == nil {
		t.Fatal("the results volume is not the PersistentVolumeClaim here")
	}
	if !slices.Contains(o.claims[claim.ClaimName].Spec.AccessModes, corev1.ReadWriteMany) {
		t.Error("the results claim is not ReadWriteMany; pods on different nodes write to it")
	}

	merge := o.jobs["sawtooth-merge"]
	if merge == nil {
		t.Fatal("no Job sawtooth-merge")
	}
	mc := merge.Spec.Template.Spec.Containers[0]
	script := strings.Join(append(slices.Clone(mc.Command), mc.Args...), " ")
	if !strings.Contains(script, "sawtooth merge") || !strings.Contains(script, "--out") {
		t.Errorf("merge Job runs %q, want sawtooth merge ... --out", script)
	}
	var mv *corev1.PersistentVolumeClaimVolumeSource
	for _, v := range merge.Spec.Template.Spec.Volumes {
		if v.PersistentVolumeClaim != nil {
			mv = v.PersistentVolumeClaim
		}
	}
	if mv == nil || mv.ClaimName != claim.ClaimName {
		t.Errorf("the merge Job does not mount the shards' results claim %s", claim.ClaimName)
	}
	if fmt.Sprint(env["RUN_NAME"].Value) == "" {
		t.Error("no RUN_NAME")
	}
}
