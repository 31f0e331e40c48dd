/** The job view, rebuilt from jobs.status, training.progress and evals.completed. */
package dev.tuneforge.gateway.job;
