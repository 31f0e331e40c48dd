/** trainer-service: runs training jobs with llm-core and reports their progress. */
package dev.tuneforge.trainer;
