/** The reward models a replica serves, loaded from the bucket on first use. */
package dev.tuneforge.reward.model;
