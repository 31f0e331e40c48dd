/** data-service: turns a training request into validated dataset splits in object storage. */
package dev.tuneforge.data;
