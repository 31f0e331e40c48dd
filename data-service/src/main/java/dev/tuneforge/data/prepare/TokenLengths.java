package dev.tuneforge.data.prepare;

import com.google.gson.JsonObject;
import dev.tuneforge.llm.data.ChatMessage;
import dev.tuneforge.llm.data.ChatTemplate;
import dev.tuneforge.llm.data.PreferenceDataset;
import dev.tuneforge.llm.data.SftDataset;
import dev.tuneforge.llm.preference.PreferencePair;
import dev.tuneforge.llm.tokenizer.Tokenizer;
import java.util.List;

/**
 * Token count of a canonical record exactly as training will see it: through llm-core's dataset
 * readers with the base model's tokenizer and chat template (EOS included; for a preference pair,
 * the prompt plus the longer response).
 */
public final class TokenLengths {
  private static final int UNBOUNDED = Integer.MAX_VALUE / 2;
  private final Tokenizer tokenizer;
  private final ChatTemplate template;
  private final java.util.Map<String, String> special;
  private final SftDataset.Options sft;
  private final PreferenceDataset.Options preference;

  public TokenLengths(Tokenizer tokenizer, ChatTemplate template) {
    this.tokenizer = tokenizer;
    this.template = template;
    this.special =
        java.util.Map.of(
            "bos_token", tokenizer.special().bos(), "eos_token", tokenizer.special().eos());
    this.sft = new SftDataset.Options(UNBOUNDED, true, false, template);
    this.preference = new PreferenceDataset.Options(UNBOUNDED - 1, UNBOUNDED, template);
  }

  public int of(JsonObject canonical, DatasetKind kind) {
    if (kind == DatasetKind.MESSAGES) {
      // One render of the whole conversation: the tokens SftDataset trains on (the chat template
      // closes turns itself, so nothing is appended).
      List<ChatMessage> messages =
          SftDataset.messages(canonical.get("messages"), "messages", 0); // as training reads them
      List<?> tools = SftDataset.tools(canonical, 0);
      return tokenizer.encodePlain(template.render(messages, tools, false, special)).length;
    }
    List<String> line = List.of(canonical.toString());
    return switch (kind) {
      case PREFERENCE -> {
        PreferencePair pair = PreferenceDataset.parse(line, tokenizer, preference).get(0);
        yield pair.prompt().length + Math.max(pair.chosen().length, pair.rejected().length);
      }
      case PROMPT_ONLY -> PreferenceDataset.parsePrompts(line, tokenizer, preference).get(0).length;
      default -> SftDataset.parse(line, tokenizer, sft).examples().get(0).ids().length;
    };
  }
}
