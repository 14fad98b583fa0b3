// Package scenarios is sawtooth's scenario language: the YAML format of an
// experiment (target, traffic mix, phases, variants, thresholds), its
// defaults and validation with errors that name file, line and field, and
// the shipped scenarios embedded in the binary.
package scenarios
