import XCTest
final class PlaceholderRealizerTests: XCTestCase { func testNothing() {} }
