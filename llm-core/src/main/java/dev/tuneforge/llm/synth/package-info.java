/**
 * Synthetic training data written by models: Self-Instruct (Wang et al., 2022) bootstraps
 * instruction tasks from seed tasks, Constitutional AI (Bai et al., 2022) has a model critique and
 * revise its answers under written principles. Both ask a {@link
 * dev.tuneforge.llm.generate.TextGenerator}, resume after a crash from their state file, stop at a
 * cancel, and write their outputs with the manifest last ({@link
 * dev.tuneforge.llm.synth.SynthOutput}), so a half-written result never looks complete.
 */
package dev.tuneforge.llm.synth;
