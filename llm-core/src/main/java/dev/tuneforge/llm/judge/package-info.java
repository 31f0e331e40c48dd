/**
 * AI feedback: judges that compare two responses to a prompt (pairwise) or score each on its own
 * (pointwise), for online DPO (RLAIF) and for win rates. TRL's {@code BasePairwiseJudge} is the
 * model: a verdict per prompt, {@link dev.tuneforge.llm.judge.Judge#NO_VERDICT} where the judge
 * gave none.
 */
package dev.tuneforge.llm.judge;
