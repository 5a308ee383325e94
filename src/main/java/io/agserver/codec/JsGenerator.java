package io.agserver.codec;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.util.JsonGeneratorDelegate;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;

/**
 * Makes every generator of the codec's factory write numbers and strings as JSON.stringify does:
 * numbers in Number#toString form, non-finite numbers as null, lone surrogates escaped. Doing it
 * at the generator covers every serializer (boxed, primitive arrays, map keys) without trees.
 */
final class JsGenerator extends JsonGeneratorDelegate {

  private static final double MAX_SAFE_INTEGER = 9007199254740992d;

  JsGenerator(JsonGenerator delegate) {
    // false: writeObject and the copy methods come back through this class's overrides.
    super(delegate, false);
  }

  @Override
  public void writeNumber(double value) throws IOException {
    if (!Double.isFinite(value)) {
      delegate.writeNull();
    } else if (Math.abs(value) <= MAX_SAFE_INTEGER && value == Math.rint(value)) {
      delegate.writeNumber((long) value);
    } else {
      delegate.writeNumber(JsNumbers.toString(value));
    }
  }

  @Override
  public void writeNumber(float value) throws IOException {
    if (!Float.isFinite(value)) {
      delegate.writeNull();
    } else {
      delegate.writeNumber(JsNumbers.toString(value));
    }
  }

  /** JS has no such type: written as the double JS would read it as. */
  @Override
  public void writeNumber(BigDecimal value) throws IOException {
    if (value == null) {
      delegate.writeNull();
    } else {
      writeNumber(value.doubleValue());
    }
  }

  /** JSON.stringify rejects BigInt; a Java BigInteger is written as the double JS would read. */
  @Override
  public void writeNumber(BigInteger value) throws IOException {
    if (value == null) {
      delegate.writeNull();
    } else {
      writeNumber(value.doubleValue());
    }
  }

  /** The delegate would write the array itself, bypassing the overrides above. */
  @Override
  public void writeArray(double[] array, int offset, int length) throws IOException {
    checkOffsets(array.length, offset, length);
    writeStartArray(array, length);
    for (int i = offset, end = offset + length; i < end; i++) {
      writeNumber(array[i]);
    }
    writeEndArray();
  }

  @Override
  public void writeArray(String[] array, int offset, int length) throws IOException {
    checkOffsets(array.length, offset, length);
    writeStartArray(array, length);
    for (int i = offset, end = offset + length; i < end; i++) {
      writeString(array[i]);
    }
    writeEndArray();
  }

  /** As the generators check these arrays (IllegalArgumentException), without their protected helper. */
  private static void checkOffsets(int arrayLength, int offset, int length) {
    if (offset < 0 || length < 0 || offset > arrayLength - length) {
      throw new IllegalArgumentException(String.format(
          "invalid argument(s) (offset=%d, length=%d) for input array of %d element",
          offset, length, arrayLength));
    }
  }

  @Override
  public void writeString(String text) throws IOException {
    if (text != null && JsQuotedString.hasLoneSurrogate(text)) {
      delegate.writeString(new JsQuotedString(text));
    } else {
      delegate.writeString(text);
    }
  }

  @Override
  public void writeString(char[] text, int offset, int length) throws IOException {
    if (JsQuotedString.hasLoneSurrogate(text, offset, length)) {
      delegate.writeString(new JsQuotedString(new String(text, offset, length)));
    } else {
      delegate.writeString(text, offset, length);
    }
  }

  @Override
  public void writeFieldName(String name) throws IOException {
    if (JsQuotedString.hasLoneSurrogate(name)) {
      delegate.writeFieldName(new JsQuotedString(name));
    } else {
      delegate.writeFieldName(name);
    }
  }
}
