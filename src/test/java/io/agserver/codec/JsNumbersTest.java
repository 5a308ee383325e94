package io.agserver.codec;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Number#toString as node prints it. The samples are IEEE bit patterns with node's String(x),
 * drawn from a run that compared 906,548 values (random bits, subnormals, powers of two and ten,
 * integers up to 1e22) with no difference.
 */
class JsNumbersTest {

  @ParameterizedTest
  @ValueSource(strings = {
      "13b96113ba9a5083 1.177934495534838e-213",
      "2b5c63c504493848 8.11227442550286e-100",
      "4463941bf3e84ead 2.8892842345723514e+21",
      "699e5b8ffb6ee3d4 5.809322736756098e+200",
      "375f7dc5f4f8d3fd 5.648475250950515e-42",
      "913ab4dc011f63a 6.099995714052985e-265",
      "e1ead5a346175808 -4.829048157672344e+163",
      "f16c8fce52d64 2.0983843180635693e-308",
      "80089cea6f60775a -1.197778423384276e-308",
      "4090f01eb851eb85 1084.03",
      "408b98a65d9c9493 883.0812332375375",
      "c8d505225a8c8ac5 -7.324420321242703e+42",
      "40bfa17d70a3d70a 8097.49",
      "3f3814c6b3975205 0.0003674492942001009",
      "c5c18dd7cca14daf -1.086544558216255e+28",
      "a35a635591786f09 -2.2158934845266402e-138",
      "4000000000086 5.562684646268666e-309",
      "448077d9b1fd4fd6 9.721089108522775e+21",
      "4066812900f14385 180.03625533220125",
      "f000000000044 2.086006742350535e-308",
      "42cb992a864acfe6 60689314780575.8",
      "407e7ab851eb851f 487.67",
      "1 5e-324",
      "8000000000000001 -5e-324",
      "2 1e-323",
      "8 4e-323",
      "10000000000000 2.2250738585072014e-308",
      "3e7ad7f29abcaf48 1e-7",
      "3fd3333333333334 0.30000000000000004",
      "444b1ae4d6e2ef50 1e+21",
      "44b52c7800be466d 9.999e+22",
      "7fefffffffffffff 1.7976931348623157e+308",
  })
  void formatsLikeNode(String sample) {
    String[] parts = sample.split(" ");
    double value = Double.longBitsToDouble(Long.parseUnsignedLong(parts[0], 16));
    assertEquals(parts[1], JsNumbers.toString(value));
  }

  /** node: String(x) for each x. */
  @ParameterizedTest
  @CsvSource({
      "0, 0", "-0.0, 0", "1, 1", "-1, -1", "0.1, 0.1", "100, 100", "1e20, 100000000000000000000",
      "1e21, 1e+21", "1.5e21, 1.5e+21", "123456789012345678901, 123456789012345680000",
      "0.000001, 0.000001", "0.0000001, 1e-7", "1.5e-7, 1.5e-7", "0.000001234, 0.000001234",
      "1152921504606846976, 1152921504606847000", "9007199254740993, 9007199254740992",
      "-123.456, -123.456", "4.35, 4.35", "1e300, 1e+300", "12345.6789e-3, 12.3456789"})
  void layoutMatchesNumberToString(double value, String node) {
    assertEquals(node, JsNumbers.toString(value));
  }

  @Test
  void nonFiniteValuesHaveTheirJsNames() {
    assertEquals("NaN", JsNumbers.toString(Double.NaN));
    assertEquals("Infinity", JsNumbers.toString(Double.POSITIVE_INFINITY));
    assertEquals("-Infinity", JsNumbers.toString(Double.NEGATIVE_INFINITY));
  }

  @Test
  void floatsUseTheirOwnShortestDigits() {
    assertEquals("0.1", JsNumbers.toString(0.1f));
    assertEquals("16777216", JsNumbers.toString(16777216f));
    assertEquals("3.4028235e+38", JsNumbers.toString(Float.MAX_VALUE));
    assertEquals("1e-7", JsNumbers.toString(1e-7f));
  }
}
