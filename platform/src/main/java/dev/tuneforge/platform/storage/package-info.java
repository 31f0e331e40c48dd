/**
 * Object storage shared by the services: an S3 bucket behind a small interface, and artefacts
 * committed by a manifest written last.
 */
package dev.tuneforge.platform.storage;
