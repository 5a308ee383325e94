package io.agserver.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

/** A text's UTF-8 length, counted without encoding it, is what Java's encoder writes. */
class Utf8LengthTest {

  private static void same(String text) {
    assertEquals(text.getBytes(StandardCharsets.UTF_8).length, Utf8Length.of(text), () -> "for " + text);
  }

  @Test
  void asciiTwoThreeAndFourByteCharactersAndLoneSurrogates() {
    same("");
    same("{\"event\":\"#handshake\",\"cid\":1}");
    same("déjà");
    same("€ and 中文");
    same("🙂 at the start, 🙂");
    same("a lone \uD83D high surrogate");
    same("a lone \uDE42 low surrogate");
    same("\uD83D");
    same("x\uDE42\uD83D");
  }

  @Test
  void randomTexts() {
    SplittableRandom random = new SplittableRandom(7);
    for (int n = 0; n < 2000; n++) {
      StringBuilder text = new StringBuilder();
      int length = random.nextInt(40);
      for (int i = 0; i < length; i++) {
        text.append((char) switch (random.nextInt(4)) {
          case 0 -> random.nextInt(0x80);
          case 1 -> 0x80 + random.nextInt(0x780);
          case 2 -> 0xD800 + random.nextInt(0x800);
          default -> random.nextInt(0x10000);
        });
      }
      same(text.toString());
    }
  }
}
